-- Backticks, and a list of tables: each existing one loses its rows.
DROP TABLE `archive`, legacy_events;
