"""Pure page classes: (url, body, headers) -> ParsedPage / ListingEntry. No Scrapy imports here."""
