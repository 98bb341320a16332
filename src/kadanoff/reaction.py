"""``kadanoff.reaction``: stochastic reaction-diffusion on lattices (see
:mod:`kadanoff.models.reaction` for the rule grammar, rate conventions and
the engine)."""
from .models.reaction import (
    Ensemble,
    Rule,
    System,
    annihilation,
    birth_death,
    contact_process,
    correlation,
    lotka_volterra,
    parse_reversible,
    parse_rule,
    plot_snapshot,
    plot_spacetime,
    rock_paper_scissors,
    save_movie,
    two_species_annihilation,
)

__all__ = ["System", "Ensemble", "Rule", "parse_rule", "parse_reversible", "contact_process", "birth_death",
           "annihilation", "two_species_annihilation", "lotka_volterra", "rock_paper_scissors",
           "correlation", "plot_snapshot", "plot_spacetime", "save_movie"]
