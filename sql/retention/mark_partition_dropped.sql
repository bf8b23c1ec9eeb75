UPDATE analytics_raw_archives SET dropped_at = now() WHERE day = %(day)s
