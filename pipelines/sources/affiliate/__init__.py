"""Affiliate network transaction reports (Impact, Awin, CJ) -> ``affiliate_transactions``."""
