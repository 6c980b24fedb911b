"""Reporting's rules, by what they hold: `facts` (the read model built from events),
`engine` (the one query engine), `reports` (what can be reported on, the standard reports,
custom reports), `schedules`, `assets` and `licenses`. No nameko here."""
