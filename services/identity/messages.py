"""The French wording of identity's errors, picked by the caller's locale (the English
wording is the one the domain raises)."""
from services.common.errors import DomainError

FR = {
    "invalid_credentials": "Nom d'utilisateur ou mot de passe incorrect.",
    "account_locked": "Ce compte est verrouillé après trop d'échecs de connexion : "
                      "réinitialisez le mot de passe ou adressez-vous à votre administrateur.",
    "account_disabled": "Ce compte est désactivé.",
    "password_expired": "Aucune connexion depuis plus d'un an : réinitialisez votre mot de passe.",
    "rate_limited": "Trop de tentatives. Réessayez plus tard.",
    "invalid_refresh_token": "Session non valide : reconnectez-vous.",
    "refresh_token_revoked": "Session révoquée : reconnectez-vous.",
    "refresh_token_expired": "Session expirée : reconnectez-vous.",
    "token_invalid": "Ce lien n'est pas valide.",
    "token_used": "Ce lien a déjà été utilisé.",
    "token_expired": "Ce lien a expiré : demandez-en un nouveau.",
    "weak_password": "Ce mot de passe ne convient pas.",
    "wrong_password": "Le mot de passe actuel est incorrect.",
    "consent_required": "Votre consentement est nécessaire pour enregistrer la carte.",
    "invalid_card": "Cette carte n'est pas acceptée.",
    "username_taken": "Ce nom d'utilisateur est déjà pris.",
    "customer_number_taken": "Ce numéro de client est déjà utilisé.",
    "account_number_taken": "Ce compte de facturation est déjà lié.",
    "group_name_taken": "Un groupe porte déjà ce nom.",
    "group_key_taken": "Un groupe porte déjà cette clé.",
    "standard_group": "Les groupes standard ne peuvent pas être supprimés.",
    "unknown_group": "Groupe inconnu.",
    "cannot_disable_self": "Vous ne pouvez pas désactiver votre propre compte.",
    "not_found": "Introuvable.",
}


def localize(exc: DomainError, locale: str) -> DomainError:
    """The same error, worded for `locale`."""
    if locale != "fr" or exc.code not in FR:
        return exc
    return type(exc)(FR[exc.code], exc.code, exc.errors, exc.status, exc.extra)
