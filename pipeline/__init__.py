"""Pure extraction core (normalize, dates, tagging, diff, status) and the orchestration on top (process, deliver, CLI, daemon)."""
