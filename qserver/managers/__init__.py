"""What floor managers use: the live console (:mod:`.console`), reports and their charts
(:mod:`.reports`, :mod:`.charts`), the audit trail (:mod:`.audit`), the SQLite archive of closed days
(:mod:`.archive`), and their pages and API handlers (:mod:`.web`)."""
