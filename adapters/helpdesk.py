"""Placeholder router; replaced by the helpdesk channel implementation."""
from fastapi import APIRouter

router = APIRouter()
