"""Microsoft Advertising (Bing) Reporting API ad performance reports -> ``ad_delivery``."""
