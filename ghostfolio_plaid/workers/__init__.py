"""RQ jobs. They take ids only and set up their own database connection (RQ forks per job)."""
