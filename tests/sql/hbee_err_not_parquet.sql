CREATE TABLE plain(a);
SELECT hbee_explain('SELECT count(*) FROM plain');
