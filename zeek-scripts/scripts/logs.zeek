##! Add ``serverless_platform`` and ``serverless_tenant`` to dns.log, ssl.log and http.log, and
##! raise the notices. The work happens in each log's policy hook, just before the record is
##! written, because only then are all the inputs there: the SNI, the Host and User-Agent, and
##! the JA4 that the ja4 package itself computes in ``SSL::log_policy``.

@load base/frameworks/notice
@load base/protocols/dns
@load base/protocols/http
@load base/protocols/ssl
@load ./main

module ServerlessC2;

redef record DNS::Info += {
	serverless_platform: string &log &optional;
	serverless_tenant: string &log &optional;
};

redef record SSL::Info += {
	serverless_platform: string &log &optional;
	serverless_tenant: string &log &optional;
};

redef record HTTP::Info += {
	serverless_platform: string &log &optional;
	serverless_tenant: string &log &optional;
};

function is_browser(ua: string): bool
	{
	return browser_user_agents in ua && non_browser_user_agents !in ua;
	}

# The ja4 package adds ``ja4`` to SSL::Info. Reading it through record_fields() keeps this
# package loadable with or without ja4, in either load order.
function ja4_of(rec: SSL::Info): string
	{
	local fields = record_fields(rec);
	if ( "ja4" in fields && fields["ja4"]?$value )
		return fields["ja4"]$value as string;
	return "";
	}

hook DNS::log_policy(rec: DNS::Info, id: Log::ID, filter: Log::Filter)
	{
	if ( ! tag_dns || ! rec?$query || rec?$serverless_platform )
		return;
	local m = lookup(rec$query);
	if ( ! m$found )
		return;
	rec$serverless_platform = m$platform;
	rec$serverless_tenant = m$tenant;
	}

# Priority -10: run after the ja4 package's hook has filled in rec$ja4.
hook SSL::log_policy(rec: SSL::Info, id: Log::ID, filter: Log::Filter)
    &priority=-10
	{
	if ( ! rec?$server_name || rec?$serverless_platform )
		return;
	local m = lookup(rec$server_name);
	if ( ! m$found )
		return;
	if ( tag_ssl )
		{
		rec$serverless_platform = m$platform;
		rec$serverless_tenant = m$tenant;
		}

	local ja4 = ja4_of(rec);
	if ( notice_listed_ja4 && ja4 != "" && ja4 in listed_ja4 )
		{
		local msg = fmt("JA4 %s contacted %s (%s)", ja4, rec$server_name, m$platform);
		NOTICE([$note=Listed_JA4, $msg=msg, $sub=ja4, $id=rec$id, $uid=rec$uid,
		    $identifier=cat(rec$id$orig_h, rec$server_name),
		    $suppress_for=notice_suppress_interval]);
		}
	}

hook HTTP::log_policy(rec: HTTP::Info, id: Log::ID, filter: Log::Filter)
	{
	if ( ! rec?$host || rec?$serverless_platform )
		return;
	local m = lookup(rec$host);
	if ( ! m$found )
		return;
	if ( tag_http )
		{
		rec$serverless_platform = m$platform;
		rec$serverless_tenant = m$tenant;
		}

	local ua = rec?$user_agent ? rec$user_agent : "";
	if ( notice_non_browser && ! is_browser(ua) )
		{
		local msg = fmt("non-browser client contacted %s (%s)", rec$host, m$platform);
		NOTICE([$note=Non_Browser_Client, $msg=msg, $sub=ua, $id=rec$id, $uid=rec$uid,
		    $identifier=cat(rec$id$orig_h, rec$host),
		    $suppress_for=notice_suppress_interval]);
		}
	}
