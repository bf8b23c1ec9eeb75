"""The directory: display names of organizations and models beside the ids the events carry."""
