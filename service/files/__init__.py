"""Link mode's files (SPEC 10.3): sealed with a fresh key per package (``crypt``), listed in
the manifest (``manifest``), kept in a local directory or Cloud Storage (``store``). What
stores, releases and erases a package is ``service.delivery.linkpackages``; this package
imports nothing of delivery."""
