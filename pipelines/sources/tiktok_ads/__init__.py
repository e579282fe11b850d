"""TikTok Ads: Reporting API ``report/integrated/get`` JSON."""
