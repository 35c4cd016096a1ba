DROP TABLE product_exports;
DROP TABLE products;
