"""PURE: matches -> alerts: stories (same story, cooldown, corroboration), feed-health
notices and routing; decisions the store applies."""
