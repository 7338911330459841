-- Run once by the postgres image (docker-entrypoint-initdb.d) on an empty volume: one database per service.
CREATE DATABASE auth;
CREATE DATABASE orders;
CREATE DATABASE inventory;
