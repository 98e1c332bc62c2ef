DROP TABLE client_logos;
