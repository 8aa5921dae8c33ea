"""Placeholder router; replaced by the web channel implementation."""
from fastapi import APIRouter

router = APIRouter()
