"""AppsFlyer raw-data installs reports (Pull API CSV, Data Locker) -> ``app_installs``."""
