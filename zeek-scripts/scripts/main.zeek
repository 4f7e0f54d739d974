##! The serverless catalogue and the name lookup that the log and notice scripts share.
##!
##! The catalogue is a TAB-separated input-framework table written by
##! ``serverless-c2 export zeek``: one row per platform entry, keyed by (suffix, id).
##! A name matches an entry on a label boundary: ``a.b.workers.dev`` and ``workers.dev``
##! match the suffix ``workers.dev``; ``evilworkers.dev`` does not. The longest suffix wins.

module ServerlessC2;

export {
	## The catalogue file (re-read when it changes). Write it with
	## ``serverless-c2 export zeek --out <this path>``.
	const catalog_file = @DIR + "/serverless-catalog.tsv" &redef;

	## Feature switches: tag each log, and raise each notice.
	option tag_dns = T;
	option tag_ssl = T;
	option tag_http = T;
	option notice_non_browser = T;
	option notice_listed_ja4 = T;

	## A User-Agent is treated as a browser when it matches this pattern...
	option browser_user_agents =
	    /^Mozilla\/5\.0 \(.*(Chrome|Firefox|Safari|Edg|OPR)\//;
	## ...and does not match this one (PowerShell 7 sends "Mozilla/5.0 (...) PowerShell/7.x").
	option non_browser_user_agents = /PowerShell|curl|[Ww]get|python|Python|Go-http-client|okhttp|libwww|Java\/|axios|node-fetch|aiohttp|httpx|WinHTTP|Microsoft-CryptoAPI/;

	## JA4 client fingerprints that raise a notice when they contact a serverless host
	## (needs the ja4 package, which fills ssl.log's ``ja4`` field).
	option listed_ja4: set[string] = set();

	## One notice per (source, host) in this interval.
	option notice_suppress_interval = 1hr;

	redef enum Notice::Type += {
		## A non-browser User-Agent (or none) made an HTTP request to a serverless host.
		Non_Browser_Client,
		## A client with a JA4 listed in ``listed_ja4`` contacted a serverless host.
		Listed_JA4,
	};

	## What a name matched: ``found`` is F when it is not a serverless host.
	type Match: record {
		found: bool &default=F;
		id: string &optional;
		platform: string &optional;
		category: string &optional;
		severity: string &optional;
		tenant: string &optional;
	};

	## Look a host name up in the catalogue (case, a trailing dot and ``:port`` are ignored).
	global lookup: function(host: string): Match;
}

type CatalogIdx: record {
	suffix: string;
	id: string;
};

type CatalogVal: record {
	platform: string;
	provider: string;
	category: string;
	kind: string;
	regex: string &optional;
	tenant: string;
	confidence: string;
	severity: string;
};

global catalog: table[string, string] of CatalogVal = table();
global ids_by_suffix: table[string] of set[string] = table();
global structural: table[string] of pattern = table();

event zeek_init()
	{
	Input::add_table([$source=catalog_file, $name="serverless-catalog",
	    $idx=CatalogIdx, $val=CatalogVal, $destination=catalog,
	    $mode=Input::REREAD]);
	}

# Rebuild the suffix index and the compiled structural patterns whenever the file is (re)read.
event Input::end_of_data(name: string, source: string)
	{
	if ( name != "serverless-catalog" )
		return;

	local by_suffix: table[string] of set[string] = table();
	local patterns: table[string] of pattern = table();

	for ( [sfx, eid] in catalog )
		{
		local v = catalog[sfx, eid];
		if ( sfx !in by_suffix )
			by_suffix[sfx] = set();
		add by_suffix[sfx][eid];
		if ( v$kind == "structural" && v?$regex )
			patterns[eid] = string_to_pattern(v$regex, F);
		}

	ids_by_suffix = by_suffix;
	structural = patterns;
	}

function normalize(host: string): string
	{
	local name = to_lower(host);
	# An IPv6 literal keeps its colons; a name loses its ":port".
	if ( /^[^:\[]+:[0-9]+$/ == name )
		name = split_string1(name, /:/)[0];
	if ( /\.$/ in name )
		name = name[0 : |name| - 1];
	return name;
	}

# The tenant, by the rule the exporter wrote: "label" is the label just left of the suffix (the
# Workers account, the Vercel project), "first" the first label (the Lambda URL id, the API id),
# "host" the whole name (ephemeral tunnels), "none" nothing (the tenant is in the URL path).
function tenant_of(name: string, sfx: string, rule: string): string
	{
	if ( rule == "host" )
		return name;
	if ( rule == "first" )
		return split_string(name, /\./)[0];
	if ( rule != "label" || name == sfx )
		return "";
	local prefix = split_string(name[0 : |name| - |sfx| - 1], /\./);
	return prefix[|prefix| - 1];
	}

function lookup(host: string): Match
	{
	local name = normalize(host);
	local cand = name;

	# Walk from the whole name to ever shorter suffixes: the longest catalogue suffix wins, and
	# at one suffix an exact or structural entry beats a plain suffix entry (it is more specific).
	while ( |cand| > 0 )
		{
		if ( cand in ids_by_suffix )
			{
			local best = "";
			for ( eid in ids_by_suffix[cand] )
				{
				local v = catalog[cand, eid];
				if ( v$kind == "suffix" )
					{
					# A suffix needs a label in front: the bare apex is the vendor's own site.
					if ( cand != name )
						best = eid;
					next;
					}
				if ( v$kind == "exact" && cand != name )
					next;
				if ( v$kind == "structural"
				    && ( eid !in structural || ! ( structural[eid] == name ) ) )
					next;
				best = eid;
				break;
				}

			if ( best != "" )
				{
				local e = catalog[cand, best];
				return Match($found=T, $id=best, $platform=e$platform, $category=e$category,
				    $severity=e$severity, $tenant=tenant_of(
				    name, cand, e$tenant));
				}
			}

		local parts = split_string1(cand, /\./);
		if ( |parts| < 2 )
			break;
		cand = parts[1];
		}

	return Match();
	}
