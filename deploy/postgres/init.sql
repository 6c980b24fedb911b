-- One database and one user per service: no service can read another's tables.
CREATE USER identity WITH PASSWORD 'identity';
CREATE DATABASE identity OWNER identity;
CREATE USER catalog WITH PASSWORD 'catalog';
CREATE DATABASE catalog OWNER catalog;
CREATE USER orders WITH PASSWORD 'orders';
CREATE DATABASE orders OWNER orders;
CREATE USER approvals WITH PASSWORD 'approvals';
CREATE DATABASE approvals OWNER approvals;
CREATE USER reporting WITH PASSWORD 'reporting';
CREATE DATABASE reporting OWNER reporting;
CREATE USER notifications WITH PASSWORD 'notifications';
CREATE DATABASE notifications OWNER notifications;
