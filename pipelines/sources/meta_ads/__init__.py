"""Meta (Facebook/Instagram) Ads: Insights API JSON and the Ads Manager CSV export."""
