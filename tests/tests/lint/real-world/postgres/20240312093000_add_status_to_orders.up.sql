-- Rails-style: `add_column :orders, :status, :string, null: false` and `add_index`,
-- written straight to SQL. Passes on an empty dev database, fails (or locks) in production.
ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL;
CREATE INDEX index_orders_on_status ON orders (status);
