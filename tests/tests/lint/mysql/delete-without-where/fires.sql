-- A LIMIT bounds how many rows go, not which.
DELETE FROM `carts` LIMIT 1000;
