"""Placeholder router; replaced by the wechat channel implementation."""
from fastapi import APIRouter

router = APIRouter()
