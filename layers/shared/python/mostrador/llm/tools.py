"""The tools the reply model may call, as provider-neutral specs.

Results are JSON objects; their shapes are part of the contract with the providers (the offline
model reads them to write its templated answer):

search_local_products -> {"products": [ProductCard, ...], "total": int}
get_live_product_details -> {"product": ProductCard | null}
escalate_to_human -> {"escalated": true, "escalation_id": int}
search_knowledge -> {"passages": [Passage, ...], "total": int}

Passage = {"document_id": int, "document": str, "kind": "faq"|"file", "chunk": int, "section": str|null,
           "page": int|null, "text": str, "score": float}  (the business's own policy text, best first)

ProductCard = {"item_code": str, "name": str, "brand": str|null, "category": str|null,
               "price": float|null, "price_bolivar": float|null, "currency": "USD",
               "in_stock": bool, "stock_total": float,
               "branches": [{"branch": str, "stock": float}], "summary": str|null}
"""

from __future__ import annotations

from mostrador.llm.base import ToolSpec

SEARCH_LOCAL_PRODUCTS = ToolSpec(
    name="search_local_products",
    description=(
        "Search the store's catalog by meaning and keywords. Use it for every question about "
        "products, prices, stock or availability; never answer those from memory."
    ),
    parameters={
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What the customer is looking for, in their words."},
            "brand": {"type": "string", "description": "Only this brand."},
            "category": {"type": "string", "description": "Only this category."},
            "min_price": {"type": "number", "description": "Lowest price, in the catalog's currency."},
            "max_price": {"type": "number", "description": "Highest price, in the catalog's currency."},
            "in_stock": {"type": "boolean", "description": "Only products with stock."},
            "branch": {"type": "string", "description": "Only products in stock at this branch or city."},
            "limit": {
                "type": "integer",
                "description": "How many results (1-10).",
                "minimum": 1,
                "maximum": 10,
            },
        },
        "required": ["query"],
    },
)

GET_LIVE_PRODUCT_DETAILS = ToolSpec(
    name="get_live_product_details",
    description="Current price and stock per branch of one product, by its item code.",
    parameters={
        "type": "object",
        "properties": {"item_code": {"type": "string", "description": "The product's item code."}},
        "required": ["item_code"],
    },
)

ESCALATE_TO_HUMAN = ToolSpec(
    name="escalate_to_human",
    description=(
        "Hand the conversation to a human agent: when the customer asks for a person, is upset, "
        "or needs something you cannot do (orders, payments, complaints). The bot then stays quiet."
    ),
    parameters={
        "type": "object",
        "properties": {"reason": {"type": "string", "description": "Why a human is needed, in a few words."}},
        "required": ["reason"],
    },
)

SEARCH_KNOWLEDGE = ToolSpec(
    name="search_knowledge",
    description=(
        "Search the store's own FAQ and documents (delivery and shipping, warranty, returns, payment "
        "methods, store hours, prices of services such as installation). Use it for every question about "
        "how the store works; answer policy facts only from the passages it returns. No passages means "
        "the store has not written that down."
    ),
    parameters={
        "type": "object",
        "properties": {
            "question": {"type": "string", "description": "The customer's question, in their words."},
            "limit": {"type": "integer", "description": "How many passages (1-5).", "minimum": 1, "maximum": 5},
        },
        "required": ["question"],
    },
)

REPLY_TOOLS = [SEARCH_LOCAL_PRODUCTS, GET_LIVE_PRODUCT_DETAILS, SEARCH_KNOWLEDGE, ESCALATE_TO_HUMAN]
