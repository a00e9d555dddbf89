"""Outgoing mail (password resets). With no SMTP server configured, the message goes to the log."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from controller.settings import Settings

log = logging.getLogger(__name__)


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        log.warning("no SMTP configured; mail to %s: %s\n%s", to, subject, body,
                    extra={"event": "mail.logged", "to": to})
        return
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.smtp_from, to, subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)
    log.info("mail sent", extra={"event": "mail.sent", "to": to, "subject": subject})
