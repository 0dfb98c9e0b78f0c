"""The alert workflow: the desk every alert step goes through, its figures and escalation."""
