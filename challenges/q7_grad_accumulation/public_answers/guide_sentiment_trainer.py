# ruff: noqa
# A known public answer, compared with every submission by `grade batch`
# (graders/similarity.py); never graded. The interview guide's code for
# Question 7 (SentimentTrainer.train_epoch), verbatim: lines 1549-1825 of the guide
# (AI Engineer Interview Preparation Guide 2025).

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from transformers import BertModel, BertTokenizer, AdamW, get_linear_schedule_with_warmup
from typing import Dict, List, Tuple
import numpy as np
from tqdm import tqdm

class SentimentDataset(Dataset):
    """Custom dataset for sentiment classification"""
    def __init__(self, texts: List[str], labels: List[int], tokenizer, max_length: int = 128):
        self.texts = texts
        self.labels = labels
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, idx: int) -> Dict[str, torch.Tensor]:
        text = self.texts[idx]
        label = self.labels[idx]

        # Tokenize
        encoding = self.tokenizer(
            text,
            max_length=self.max_length,
            padding='max_length',
            truncation=True,
            return_tensors='pt'
        )

        return {
            'input_ids': encoding['input_ids'].squeeze(0),
            'attention_mask': encoding['attention_mask'].squeeze(0),
            'label': torch.tensor(label, dtype=torch.long)
        }

class BERTSentimentClassifier(nn.Module):
    """BERT-based sentiment classifier"""
    def __init__(self, bert_model_name: str, num_classes: int = 3, dropout: float = 0.1):
        super().__init__()
        self.bert = BertModel.from_pretrained(bert_model_name)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.bert.config.hidden_size, num_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Get BERT outputs
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask
        )

        # Use [CLS] token representation
        pooled_output = outputs.pooler_output  # [batch_size, hidden_size]

        # Dropout and classification
        pooled_output = self.dropout(pooled_output)
        logits = self.classifier(pooled_output)  # [batch_size, num_classes]

        return logits

class SentimentTrainer:
    """
    Custom trainer with advanced features:
    - Gradient accumulation for large effective batch sizes
    - Mixed precision training (FP16)
    - Learning rate scheduling with warmup
    - Gradient clipping
    - Checkpointing
    """
    def __init__(
        self,
        model: nn.Module,
        train_dataloader: DataLoader,
        val_dataloader: DataLoader,
        device: str = 'cuda',
        learning_rate: float = 2e-5,
        num_epochs: int = 3,
        accumulation_steps: int = 4,  # Effective batch size = batch_size * accumulation_steps
        max_grad_norm: float = 1.0,
        warmup_steps: int = 100
    ):
        self.model = model.to(device)
        self.train_dataloader = train_dataloader
        self.val_dataloader = val_dataloader
        self.device = device
        self.num_epochs = num_epochs
        self.accumulation_steps = accumulation_steps
        self.max_grad_norm = max_grad_norm

        # Loss function
        self.criterion = nn.CrossEntropyLoss()

        # Optimizer
        self.optimizer = AdamW(
            model.parameters(),
            lr=learning_rate,
            weight_decay=0.01  # L2 regularization
        )

        # Learning rate scheduler with warmup
        total_steps = len(train_dataloader) * num_epochs // accumulation_steps
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer,
            num_warmup_steps=warmup_steps,
            num_training_steps=total_steps
        )

        # Mixed precision training
        self.scaler = torch.cuda.amp.GradScaler()

        # Metrics tracking
        self.train_losses = []
        self.val_losses = []
        self.val_accuracies = []

    def train_epoch(self) -> float:
        """Train for one epoch with gradient accumulation"""
        self.model.train()
        total_loss = 0
        self.optimizer.zero_grad()

        progress_bar = tqdm(enumerate(self.train_dataloader), total=len(self.train_dataloader))

        for step, batch in progress_bar:
            # Move to device
            input_ids = batch['input_ids'].to(self.device)
            attention_mask = batch['attention_mask'].to(self.device)
            labels = batch['label'].to(self.device)

            # Mixed precision forward pass
            with torch.cuda.amp.autocast():
                logits = self.model(input_ids, attention_mask)
                loss = self.criterion(logits, labels)
                # Scale loss for gradient accumulation
                loss = loss / self.accumulation_steps

            # Backward pass with mixed precision
            self.scaler.scale(loss).backward()

            # Gradient accumulation: only step optimizer every N steps
            if (step + 1) % self.accumulation_steps == 0:
                # Gradient clipping (prevent exploding gradients)
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(
                    self.model.parameters(),
                    self.max_grad_norm
                )

                # Optimizer step
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.scheduler.step()
                self.optimizer.zero_grad()

            # Track loss
            total_loss += loss.item() * self.accumulation_steps

            # Update progress bar
            progress_bar.set_postfix({
                'loss': loss.item() * self.accumulation_steps,
                'lr': self.scheduler.get_last_lr()[0]
            })

        return total_loss / len(self.train_dataloader)

    @torch.no_grad()
    def validate(self) -> Tuple[float, float]:
        """Validate model"""
        self.model.eval()
        total_loss = 0
        correct = 0
        total = 0

        for batch in tqdm(self.val_dataloader, desc="Validating"):
            input_ids = batch['input_ids'].to(self.device)
            attention_mask = batch['attention_mask'].to(self.device)
            labels = batch['label'].to(self.device)

            # Forward pass
            logits = self.model(input_ids, attention_mask)
            loss = self.criterion(logits, labels)

            # Metrics
            total_loss += loss.item()
            predictions = torch.argmax(logits, dim=1)
            correct += (predictions == labels).sum().item()
            total += labels.size(0)

        avg_loss = total_loss / len(self.val_dataloader)
        accuracy = correct / total

        return avg_loss, accuracy

    def train(self, checkpoint_dir: str = './checkpoints'):
        """Full training loop"""
        import os
        os.makedirs(checkpoint_dir, exist_ok=True)

        best_val_accuracy = 0

        for epoch in range(self.num_epochs):
            print(f"\nEpoch {epoch + 1}/{self.num_epochs}")

            # Train
            train_loss = self.train_epoch()
            self.train_losses.append(train_loss)
            print(f"Train Loss: {train_loss:.4f}")

            # Validate
            val_loss, val_accuracy = self.validate()
            self.val_losses.append(val_loss)
            self.val_accuracies.append(val_accuracy)
            print(f"Val Loss: {val_loss:.4f}, Val Accuracy: {val_accuracy:.4f}")

            # Save best model
            if val_accuracy > best_val_accuracy:
                best_val_accuracy = val_accuracy
                checkpoint_path = os.path.join(checkpoint_dir, 'best_model.pt')
                torch.save({
                    'epoch': epoch,
                    'model_state_dict': self.model.state_dict(),
                    'optimizer_state_dict': self.optimizer.state_dict(),
                    'scheduler_state_dict': self.scheduler.state_dict(),
                    'val_accuracy': val_accuracy,
                    'val_loss': val_loss
                }, checkpoint_path)
                print(f"Saved best model with accuracy: {val_accuracy:.4f}")

        print(f"\nTraining complete. Best validation accuracy: {best_val_accuracy:.4f}")

# ===== USAGE EXAMPLE =====
if __name__ == "__main__":
    # Configuration
    BERT_MODEL = 'bert-base-uncased'
    NUM_CLASSES = 3  # positive, neutral, negative
    BATCH_SIZE = 8   # Small batch size
    ACCUMULATION_STEPS = 8  # Effective batch size = 64
    MAX_LENGTH = 128
    NUM_EPOCHS = 3
    LEARNING_RATE = 2e-5
    DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

    # Sample data
    train_texts = ["This is great!", "Terrible experience", "It's okay"] * 1000
    train_labels = [2, 0, 1] * 1000  # 2=positive, 1=neutral, 0=negative
    val_texts = ["Amazing!", "Bad", "Average"] * 100
    val_labels = [2, 0, 1] * 100

    # Initialize tokenizer
    tokenizer = BertTokenizer.from_pretrained(BERT_MODEL)

    # Create datasets
    train_dataset = SentimentDataset(train_texts, train_labels, tokenizer, MAX_LENGTH)
    val_dataset = SentimentDataset(val_texts, val_labels, tokenizer, MAX_LENGTH)

    # Create dataloaders
    train_dataloader = DataLoader(train_dataset, batch_size=BATCH_SIZE, shuffle=True)
    val_dataloader = DataLoader(val_dataset, batch_size=BATCH_SIZE)

    # Initialize model
    model = BERTSentimentClassifier(BERT_MODEL, NUM_CLASSES)

    # Initialize trainer
    trainer = SentimentTrainer(
        model=model,
        train_dataloader=train_dataloader,
        val_dataloader=val_dataloader,
        device=DEVICE,
        learning_rate=LEARNING_RATE,
        num_epochs=NUM_EPOCHS,
        accumulation_steps=ACCUMULATION_STEPS
    )

    # Train
    trainer.train()
