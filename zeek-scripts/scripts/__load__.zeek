# serverless-c2: tag dns/ssl/http logs with the serverless platform and tenant, and raise notices.
@load ./main
@load ./logs
