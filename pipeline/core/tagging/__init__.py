"""Table-driven taggers: control codes, elements, HS codes, typed dates and relations."""
