"""HTTP emulators of the SaaS APIs Jarvis talks to, following each vendor's published spec."""
