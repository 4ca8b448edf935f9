"""gunicorn settings, read from the working directory (gunicorn's default `./gunicorn.conf.py`),
so `gunicorn pathways.wsgi` started in the project folder uses them.

gunicorn has no setting for its `Server` response header, which announces its name and
version; this file replaces the name it sends (and there is no version any more).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "Pathways"
