"""State reloaded at run time and read by both paths: the rules, the templates, who is who."""
