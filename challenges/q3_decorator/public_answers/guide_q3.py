# ruff: noqa
# A known public answer, compared with every submission by `grade batch`
# (graders/similarity.py); never graded. The interview guide's code for
# Question 3 (a decorator that caches LLM calls with a TTL), verbatim: lines 296-476 of the guide
# (AI Engineer Interview Preparation Guide 2025).

import time
import functools
import hashlib
import json
from typing import Callable, Any, Optional
from collections import defaultdict
import threading
import logging

logger = logging.getLogger(__name__)

class LLMCallCache:
    """Thread-safe cache with TTL for LLM responses"""
    def __init__(self):
        self._cache = {}
        self._timestamps = {}
        self._lock = threading.Lock()

    def get(self, key: str, ttl: int) -> Optional[Any]:
        with self._lock:
            if key in self._cache:
                if time.time() - self._timestamps[key] < ttl:
                    return self._cache[key]
                else:
                    # Expired, remove
                    del self._cache[key]
                    del self._timestamps[key]
            return None

    def set(self, key: str, value: Any):
        with self._lock:
            self._cache[key] = value
            self._timestamps[key] = time.time()

class RateLimiter:
    """Token bucket rate limiter"""
    def __init__(self, rate: int, per: float):
        """
        Args:
            rate: Number of calls allowed
            per: Time period in seconds
        """
        self.rate = rate
        self.per = per
        self.allowance = rate
        self.last_check = time.time()
        self._lock = threading.Lock()

    def allow_request(self) -> bool:
        with self._lock:
            current = time.time()
            time_passed = current - self.last_check
            self.last_check = current

            # Add tokens based on time passed
            self.allowance += time_passed * (self.rate / self.per)
            if self.allowance > self.rate:
                self.allowance = self.rate

            if self.allowance < 1.0:
                return False
            else:
                self.allowance -= 1.0
                return True

# Global instances
_llm_cache = LLMCallCache()
_rate_limiters = defaultdict(lambda: RateLimiter(rate=10, per=60))

def llm_call(
    ttl: int = 3600,  # Cache for 1 hour
    rate_limit: int = 10,  # 10 calls per minute
    log_calls: bool = True,
    retry_on_rate_limit: bool = True
):
    """
    Decorator for LLM API calls with caching, rate limiting, and logging.

    Args:
        ttl: Cache time-to-live in seconds
        rate_limit: Maximum calls per minute
        log_calls: Whether to log all calls
        retry_on_rate_limit: Whether to wait and retry on rate limit
    """
    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # Create cache key from function name and arguments
            cache_key = _create_cache_key(func.__name__, args, kwargs)

            # Check cache first
            cached_result = _llm_cache.get(cache_key, ttl)
            if cached_result is not None:
                if log_calls:
                    logger.info(f"Cache hit for {func.__name__}")
                return cached_result

            # Rate limiting
            limiter = _rate_limiters[func.__name__]
            limiter.rate = rate_limit

            while not limiter.allow_request():
                if retry_on_rate_limit:
                    wait_time = 60.0 / rate_limit
                    logger.warning(f"Rate limit exceeded for {func.__name__}, "
                                 f"waiting {wait_time}s")
                    time.sleep(wait_time)
                else:
                    raise Exception(f"Rate limit exceeded for {func.__name__}")

            # Log the call
            if log_calls:
                logger.info(f"Calling {func.__name__} with args={args}, kwargs={kwargs}")

            # Make the actual call
            start_time = time.time()
            try:
                result = func(*args, **kwargs)

                # Cache the result
                _llm_cache.set(cache_key, result)

                if log_calls:
                    duration = time.time() - start_time
                    logger.info(f"{func.__name__} completed in {duration:.2f}s")

                return result

            except Exception as e:
                logger.error(f"Error in {func.__name__}: {str(e)}")
                raise

        return wrapper
    return decorator

def _create_cache_key(func_name: str, args: tuple, kwargs: dict) -> str:
    """Create a hash key from function arguments"""
    # Convert args and kwargs to a stable string representation
    key_data = {
        'function': func_name,
        'args': args,
        'kwargs': kwargs
    }
    key_string = json.dumps(key_data, sort_keys=True, default=str)
    return hashlib.md5(key_string.encode()).hexdigest()

# Usage example
@llm_call(ttl=7200, rate_limit=20, log_calls=True)
def call_openai_gpt4(prompt: str, temperature: float = 0.7) -> str:
    """Call OpenAI GPT-4 API"""
    # Actual API call here
    import openai
    response = openai.ChatCompletion.create(
        model="gpt-4",
        messages=[{"role": "user", "content": prompt}],
        temperature=temperature
    )
    return response.choices[0].message.content

@llm_call(ttl=3600, rate_limit=15)
def call_anthropic_claude(prompt: str, model: str = "claude-3-opus-20240229") -> str:
    """Call Anthropic Claude API"""
    import anthropic
    client = anthropic.Anthropic()
    message = client.messages.create(
        model=model,
        max_tokens=1024,
        messages=[{"role": "user", "content": prompt}]
    )
    return message.content[0].text

# Production usage
if __name__ == "__main__":
    # First call - hits API, caches result
    response1 = call_openai_gpt4("Explain quantum computing")

    # Second call with same args - returns cached result
    response2 = call_openai_gpt4("Explain quantum computing")

    # Different args - hits API again
    response3 = call_openai_gpt4("Explain quantum computing", temperature=0.5)
