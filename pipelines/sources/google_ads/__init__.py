"""Google Ads: GAQL REST JSON (Search / SearchStream), GAQL-header CSV and the UI download."""
