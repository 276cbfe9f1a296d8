"""Evidence attachments (佐证材料): files supporting findings and reports (DOMAIN.md "Cross-cutting")."""
