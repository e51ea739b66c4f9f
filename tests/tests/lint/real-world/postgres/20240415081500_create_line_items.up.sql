CREATE TABLE line_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id bigint NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE line_items
    ADD CONSTRAINT line_items_product_fk FOREIGN KEY (product_id) REFERENCES products (id);

-- Indexed for the reporting page; the foreign keys were forgotten.
CREATE INDEX line_items_created_at_idx ON line_items (created_at);
