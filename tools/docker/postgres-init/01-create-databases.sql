-- Run once by the postgres image (docker-entrypoint-initdb.d, through psql 16) on an empty volume: one
-- database per service, owned by the service's own role with its own password, and no other role may
-- connect to it. A service's credentials open its own data only; the superuser (POSTGRES_PASSWORD)
-- stays with the postgres container. \getenv reads each password from the container's environment.
\set ON_ERROR_STOP on
\getenv auth_password AUTH_DB_PASSWORD
\getenv orders_password ORDERS_DB_PASSWORD
\getenv inventory_password INVENTORY_DB_PASSWORD

CREATE ROLE auth LOGIN PASSWORD :'auth_password';
CREATE DATABASE auth OWNER auth;
REVOKE ALL ON DATABASE auth FROM PUBLIC;

CREATE ROLE orders LOGIN PASSWORD :'orders_password';
CREATE DATABASE orders OWNER orders;
REVOKE ALL ON DATABASE orders FROM PUBLIC;

CREATE ROLE inventory LOGIN PASSWORD :'inventory_password';
CREATE DATABASE inventory OWNER inventory;
REVOKE ALL ON DATABASE inventory FROM PUBLIC;
