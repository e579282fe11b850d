"""LinkedIn Ads: Marketing API ``adAnalytics`` JSON (with an optional entities block)."""
