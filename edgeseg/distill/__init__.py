"""Knowledge distillation: teachers (``teachers/``), losses (``losses/``), the recipe
(``config``) and ``distill`` — the train loop with a distillation objective."""
