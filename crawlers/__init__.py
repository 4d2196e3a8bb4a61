"""Network-facing side of regwatch: Scrapy spiders that fetch regulator pages and page classes that read them."""
