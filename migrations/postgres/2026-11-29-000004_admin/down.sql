DROP TABLE enrolments;
DROP TABLE client_changes;
