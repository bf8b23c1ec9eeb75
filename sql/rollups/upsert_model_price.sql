INSERT INTO analytics_model_prices
    (model_id, effective_from, price_per_request, price_per_1k_input_tokens, price_per_1k_output_tokens)
VALUES
    (%(model_id)s, %(effective_from)s, %(price_per_request)s, %(price_per_1k_input_tokens)s, %(price_per_1k_output_tokens)s)
ON CONFLICT (model_id, effective_from) DO UPDATE SET
    price_per_request          = EXCLUDED.price_per_request,
    price_per_1k_input_tokens  = EXCLUDED.price_per_1k_input_tokens,
    price_per_1k_output_tokens = EXCLUDED.price_per_1k_output_tokens
