-- One database and one user per service: no service can reach another's tables.
-- Run by the postgres image on its first start only (an empty data directory); the
-- passwords are for local docker-compose use, production sets its own.
CREATE USER identity WITH PASSWORD 'identity';
CREATE DATABASE identity OWNER identity;
REVOKE ALL ON DATABASE identity FROM PUBLIC;

CREATE USER catalog WITH PASSWORD 'catalog';
CREATE DATABASE catalog OWNER catalog;
REVOKE ALL ON DATABASE catalog FROM PUBLIC;

CREATE USER orders WITH PASSWORD 'orders';
CREATE DATABASE orders OWNER orders;
REVOKE ALL ON DATABASE orders FROM PUBLIC;

CREATE USER approvals WITH PASSWORD 'approvals';
CREATE DATABASE approvals OWNER approvals;
REVOKE ALL ON DATABASE approvals FROM PUBLIC;

CREATE USER reporting WITH PASSWORD 'reporting';
CREATE DATABASE reporting OWNER reporting;
REVOKE ALL ON DATABASE reporting FROM PUBLIC;

CREATE USER notifications WITH PASSWORD 'notifications';
CREATE DATABASE notifications OWNER notifications;
REVOKE ALL ON DATABASE notifications FROM PUBLIC;

CREATE USER punchout WITH PASSWORD 'punchout';
CREATE DATABASE punchout OWNER punchout;
REVOKE ALL ON DATABASE punchout FROM PUBLIC;
