-- The document's query, with two optional filters (a condition whose parameter is not given is
-- left out; values are bound by the semantic layer, never formatted into SQL).
SELECT
  customers.zone,
  customers.city,
  customers.branch_name,
  transactions.channel,
  MEASURE(transactions.debit_to_credit_ratio)
FROM customers
CROSS JOIN transactions
WHERE customers.zone = :zone
  AND transactions.channel IN :channel
GROUP BY 1,2,3,4
