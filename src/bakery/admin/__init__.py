"""Operations over both the app's own data (its database and files) and the lakehouse: a person's GDPR export
and erasure, and the retention of the app's records beside the lakehouse's. Above the app and the pipeline,
so neither of those imports the other."""
