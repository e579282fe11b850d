"""Taboola Backstage campaign-summary reports -> ``ad_delivery`` (campaign grain)."""
