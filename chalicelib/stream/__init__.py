"""The DynamoDB stream of the table: decoding changes into events, handling them."""
