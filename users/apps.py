from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from users import schema  # noqa: F401  (registers the OpenAPI extension)
        from users.tokens import session_login_begun, session_login_ended

        user_logged_in.connect(session_login_begun, dispatch_uid="users.session_login_begun")
        user_logged_out.connect(session_login_ended, dispatch_uid="users.session_login_ended")
