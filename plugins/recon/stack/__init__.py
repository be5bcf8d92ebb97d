"""The local default stack: a private MariaDB, a moto S3 server and an Airflow home under `.stack/`."""
