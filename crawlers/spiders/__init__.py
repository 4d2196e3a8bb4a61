"""Scrapy spiders: navigation only; they yield Capture items and parse no fields."""
